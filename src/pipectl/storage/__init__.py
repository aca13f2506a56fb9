"""Storage: the tables, the engine and sessions, and the migrations that evolve them."""
