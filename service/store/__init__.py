"""State in SQL through SQLModel: SQLite by default, PostgreSQL in production."""
