"""Personal data: how it is masked, sealed, scrubbed from free text and disclosed."""
