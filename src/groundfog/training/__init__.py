"""Training, processing and tuning jobs (SageMaker CreateTrainingJob, CreateProcessingJob,
CreateHyperParameterTuningJob), the instance catalog, and their costs."""
