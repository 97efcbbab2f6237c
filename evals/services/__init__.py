"""What a case can ask to have running while it runs (PostgreSQL: evals/services/postgres.py)."""
