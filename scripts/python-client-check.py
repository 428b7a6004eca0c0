#!/usr/bin/env python3
"""The README's "Run the service alone" session through a Python client generated from /v3/api-docs:
submit (spec and args), dry run, get, list, events, cancel, and a refused spec read as a Problem.
Every answer is parsed into the generated pydantic models, so a document that says something else
than the service sends fails here. Commands (docs/service.md §2.1):

  ./mvnw -B -q dependency:copy -N -Dartifact=org.openapitools:openapi-generator-cli:7.25.0 -DoutputDirectory=target
  java -jar target/openapi-generator-cli-7.25.0.jar generate -g python -i http://localhost:8080/v3/api-docs \
    -o target/python-client --package-name pipemoe_client
  PYTHONPATH=target/python-client python3 scripts/python-client-check.py

It needs pydantic 2, urllib3 and python-dateutil, PIPEMOE_ADMIN_TOKEN, and PIPEMOE_URL unless the
service is at http://localhost:8080.
"""
import os, sys
import pipemoe_client as pm
from pipemoe_client.models import CreateToken, JobSubmission, ModelSpec, ParallelSpec, PipeExpertsSpec

url = os.environ.get("PIPEMOE_URL", "http://localhost:8080")

def api(token):
    return pm.ApiClient(pm.Configuration(host=url, access_token=token))

admin = pm.TokensApi(api(os.environ["PIPEMOE_ADMIN_TOKEN"]))
alice = admin.create_token(CreateToken(owner="alice", role="USER")).token
jobs = pm.JobsApi(api(alice))

spec = dict(model=ModelSpec(moe_model_type="deepspeed_moe", num_experts=8),
            parallel=ParallelSpec(tensor=2, expert=4, sequence_parallel=True),
            pipe_experts=PipeExpertsSpec(enabled=True, multi_stream=True, multi_data=2))
job = jobs.submit_job(JobSubmission(name="e8-ep4-n2", **spec))
print("submitted", job.id, job.state.value, job.effective.schedule, "world", job.effective.world_size,
      "warnings", len(job.warnings), "waiting", job.waiting.reason)
pasted = jobs.submit_job(JobSubmission(name="pasted-e4", args="--moe-model-type deepspeed_moe --num-experts 4"
    " --expert-model-parallel-size 4 --use-pipe-experts --pipe-experts-multi-data 4 --num-attention-heads 16"))
print("args form", pasted.id, pasted.form, pasted.spec.model.num_experts, [w.rule for w in pasted.warnings])
dry = jobs.submit_job(JobSubmission(name="dry", **spec), dry_run=True)
print("dry run", dry.dry_run, dry.id, dry.effective.pipe_experts.multi_data, len(dry.notes), "notes")
got = jobs.get_job(str(job.id))
print("get", got.name, got.state.value, got.spec.parallel.tensor, got.effective.capacity)
page = jobs.list_jobs(page_size=1)
print("list", [(j.name, j.state.value) for j in page.jobs], "next page:", page.next_page_token is not None)
print("list all", [j.name for j in jobs.list_jobs().jobs])
print("events", [e.reason for e in jobs.list_job_events(str(job.id)).events])
print("cancel", jobs.cancel_job(str(job.id)).state.value)
try:
    jobs.submit_job(JobSubmission(name="too-fine", model=ModelSpec(moe_model_type="deepspeed_moe", num_experts=8),
        parallel=ParallelSpec(expert=4), pipe_experts=PipeExpertsSpec(enabled=True, multi_stream=True, multi_data=600)))
    sys.exit("an invalid job was accepted")
except pm.ApiException as e:
    problem = pm.Problem.from_json(e.body)
    print("invalid", e.status, problem.title, [(f.rule, f.pointer) for f in problem.errors])
