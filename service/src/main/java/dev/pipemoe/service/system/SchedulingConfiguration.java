package dev.pipemoe.service.system;

import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * Background loops (the lease sweeper, the gauge refresher) run on Boot's task scheduler. Each
 * feature registers its own loop with its own interval from its properties; each loop catches,
 * logs and reports its failures, so none dies silently.
 */
@Configuration(proxyBeanMethods = false)
@EnableScheduling
class SchedulingConfiguration {}
