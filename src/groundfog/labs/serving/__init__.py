"""Inference code the serving labs deploy (SageMaker's handler contract)."""
