"""The deploy pipeline: sql/ templates, BigQuery jobs, the post-deploy step, stack outputs."""
