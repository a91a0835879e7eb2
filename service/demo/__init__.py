"""The embedded default: sample feeds served on loopback so a fresh machine shows the whole job."""
