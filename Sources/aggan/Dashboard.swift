import TrainingEngine

/// The interactive dashboard (until it lands, the headless progress).
func runDashboard(engine: TrainingEngine, theme: String, color: String?) throws -> Bool {
    runHeadless(engine)
}
