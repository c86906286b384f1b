"""Qt network adapters: socket callbacks in, core events out. Nothing here formats for display."""
