"""Where prices come from: Yahoo polling (yfinance), Yahoo's live stream, or a replay file."""
