"""Where items come from: feed configuration, HTTP fetching, parsing and text normalisation."""
