"""Accuracy assessment: confusion matrix, OA, AA, kappa, per class; area-adjusted accuracy."""
