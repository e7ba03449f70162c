// The enums the command line takes by name: ArgumentParser checks the value and lists
// the choices in --help.
import AGGAN
import ArgumentParser
import Lab
import TerminalKit

extension Preset: ExpressibleByArgument {}
extension ThresholdMode: ExpressibleByArgument {}
extension Direction: ExpressibleByArgument {}
extension ExperimentVariant: ExpressibleByArgument {}

extension ColorDepth: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["truecolor", "256", "16", "none"] }
}
