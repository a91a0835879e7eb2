"""Plain domain models shared by every stage; no I/O here."""
