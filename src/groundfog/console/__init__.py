"""The console: web pages served by the API — the home page, and the training,
processing and tuning pages with their training curves and leaderboards."""

from groundfog.console.jobs_pages import render_training_job, render_training_jobs, render_tuning_job
from groundfog.console.pages import render_home

__all__ = ["render_home", "render_training_job", "render_training_jobs", "render_tuning_job"]
