package dev.pipemoe.worker.system;

import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.worker.client.Backoff;
import dev.pipemoe.worker.client.ServiceClient;
import dev.pipemoe.worker.client.ServiceException;
import dev.pipemoe.worker.daemon.NativeRuntime;
import dev.pipemoe.worker.daemon.Worker;
import dev.pipemoe.worker.run.AttemptRunner;
import dev.pipemoe.worker.run.EngineRun;
import dev.pipemoe.worker.run.FabricChoice;
import dev.pipemoe.worker.spool.Shipper;
import dev.pipemoe.worker.spool.Spool;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the worker from its properties: one instance of each part, constructor injection. */
@Configuration(proxyBeanMethods = false)
class WorkerConfiguration {

  @Bean
  WorkerMetrics workerMetrics(MeterRegistry registry) {
    return new WorkerMetrics(registry);
  }

  @Bean
  ServiceClient serviceClient(WorkerProperties props) {
    return new ServiceClient(props.serviceUrl(), props.token());
  }

  @Bean
  Backoff backoff(WorkerProperties props) {
    // every thread draws from its own generator: the lambda asks for the caller's each time
    return new Backoff(props.backoffBase(), props.backoffMax(),
        () -> ThreadLocalRandom.current().nextLong());
  }

  @Bean(destroyMethod = "")  // the worker closes it when it stops, after the last record
  Spool spool(WorkerProperties props, WorkerMetrics metrics) throws IOException {
    return Spool.open(props.spoolDir(), metrics);
  }

  /**
   * The worker and its parts. The shipper's callbacks reach the worker (which needs the shipper)
   * through a reference set once both exist.
   */
  @Bean
  Worker worker(WorkerProperties props, ServiceClient client, Spool spool, Backoff backoff,
      WorkerMetrics metrics) {
    Fabric.Factory fabrics = FabricChoice.of(props.fabric()).fabrics();
    AtomicReference<Worker> self = new AtomicReference<>();
    Shipper shipper = new Shipper(spool, batch -> {
      String id = self.get().workerId();
      try {
        return client.metrics(id, batch);
      } catch (ServiceException e) {
        if (e.kind() == ServiceException.Kind.UNKNOWN_WORKER) {
          self.get().unknownWorker();
        }
        throw e;
      }
    }, props.batchSize(), props.flushInterval(), backoff, metrics,
        () -> self.get() != null && self.get().workerId() != null,
        ref -> self.get().rejected(ref));
    EngineRun engine = new EngineRun(fabrics, props.deviceType(), props.devices(), spool, metrics);
    AttemptRunner runner = new AttemptRunner(client, engine, spool, shipper, backoff,
        props.drainTimeout(), metrics);
    Worker worker = new Worker(props, client, spool, shipper, runner, backoff, metrics,
        new NativeRuntime(fabrics));
    self.set(worker);
    return worker;
  }
}
