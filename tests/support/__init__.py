"""What only the tests use: the real `skills` installer, and what an installed copy must hold."""
