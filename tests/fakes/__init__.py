"""Stand-ins for the outside world that speak its real protocols (Yahoo's HTTP API and streamer)."""
