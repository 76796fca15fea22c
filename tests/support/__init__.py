"""Real test parts shared by every test: the tiny model, the local Hub, guards."""
