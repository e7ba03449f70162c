// The TrainingEngine module.
