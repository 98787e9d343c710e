"""The staged trainer, early stopping, the training pipeline, cross-validation, baselines and the warnings that make a
result untrustworthy."""
