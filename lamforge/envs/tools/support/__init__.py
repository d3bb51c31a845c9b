"""A small customer-service back end (FastAPI + SQLite) and its task suite."""
