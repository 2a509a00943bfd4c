"""The mutation harness: proves that the tests named for each guarantee fail when its mechanism breaks."""
