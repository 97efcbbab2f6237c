"""Tools for CI and for checking an installed copy, reached as `dlt-dagster-evals` subcommands;
the harness itself (running cases) does not use them."""
