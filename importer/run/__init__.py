"""Run: ``run_import`` strings the stages together for one :class:`ImportJob`."""
