"""Settings: the typed schema (schema.py), what one setting is (registry.py) and how front ends read the registry
(settings.py). Imports run one way: settings -> schema -> registry."""
