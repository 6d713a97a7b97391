"""The mutation score: which modules `make mutation` mutates, and the runner that scores them."""
