"""Suite-wide settings. No test may depend on the machine's speed: the suite runs on
shared, loaded machines."""
from hypothesis import HealthCheck, settings

# Hypothesis times every example (200 ms deadline) and fails when generating them is slow;
# both are wall-clock verdicts, so neither applies here.
settings.register_profile("superopt", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("superopt")
