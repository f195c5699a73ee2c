import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "tinyad", max_examples=int(os.environ.get("TINYAD_EXAMPLES", "25")), deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], derandomize=True,
)
settings.load_profile("tinyad")
