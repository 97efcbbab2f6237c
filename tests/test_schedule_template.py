"""The schedule scaffold.py --schedule writes: the name the docs give, UTC, running by default."""

from __future__ import annotations

import types

import dagster as dg

from evals.skill import templating


def _jobs_module(**extra) -> types.ModuleType:
    variables = {"pipeline_name": "shop", "dataset_name": "shop_raw", "schedule": "0 2 * * *", **extra}
    (jobs,) = [f for f in templating.render("component", variables) if f.path == "shop_jobs.py"]
    module = types.ModuleType("shop_jobs")
    exec(compile(jobs.text, jobs.path, "exec"), module.__dict__)  # noqa: S102 (our own template)
    return module


def test_the_schedule_is_named_as_the_docs_say_in_utc_and_running():
    # references/jobs-and-schedules.md: "the job `<name>_job` ... the schedule `<name>_schedule`"
    schedule = _jobs_module().shop_schedule
    assert schedule.name == "shop_schedule"
    assert schedule.job_name == "shop_job"
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_docs_name_the_job_and_the_schedule_the_template_writes():
    text = (templating.SKILL_ROOT / "references" / "jobs-and-schedules.md").read_text(encoding="utf-8")
    text = " ".join(text.split())
    assert "the job `<name>_job`" in text and "the schedule `<name>_schedule`, in UTC and `RUNNING`" in text
