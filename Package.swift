// swift-tools-version: 6.0
import PackageDescription

// Modules, lowest first; data flows one way: pixels -> tensors -> networks -> trainer ->
// engine -> snapshots -> screen. docs/ARCHITECTURE.md describes each module (a script checks
// that its list matches the targets here).
// Release builds: whole-module optimisation at -O (bounds and overflow checks kept) for
// every target; only Tensor, whose kernel loops run every iteration, drops the checks
// (-Ounchecked measured 6 % faster per training iteration at 1 thread; CHANGELOG).
let optimise: [SwiftSetting] = [.unsafeFlags(["-wmo"], .when(configuration: .release))]
let uncheckedKernels: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "aggan",
    products: [
        .executable(name: "aggan", targets: ["aggan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng"),
        .systemLibrary(name: "CTIFF", path: "Sources/CTIFF", pkgConfig: "libtiff-4"),
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses", pkgConfig: "ncursesw"),
        // Links libgomp, the OpenMP runtime oneDNN uses (see Sources/CKernels/parallel.c).
        .target(name: "CKernels", linkerSettings: [.linkedLibrary("gomp"), .linkedLibrary("dnnl")]),
        .target(name: "Basics"),
        .target(name: "Tensor", dependencies: ["CDNNL", "CKernels"], swiftSettings: uncheckedKernels),
        .target(name: "NeuralNet", dependencies: ["Tensor", "Basics"], swiftSettings: optimise),
        .target(name: "AGGAN", dependencies: ["NeuralNet", "Tensor", "Basics"], swiftSettings: optimise),
        .target(name: "Imaging", dependencies: ["CPNG", "CTIFF", "Basics"], swiftSettings: optimise),
        .target(name: "TrainingEngine", dependencies: ["AGGAN", "Imaging", "Tensor", "Basics"],
                swiftSettings: optimise),
        .target(name: "Lab", dependencies: ["TrainingEngine", "AGGAN", "Imaging", "Tensor", "Basics"],
                swiftSettings: optimise),
        .target(name: "TerminalKit", dependencies: ["CNCurses", "Basics"], swiftSettings: optimise),
        .target(name: "Dashboard", dependencies: ["TerminalKit", "TrainingEngine", "AGGAN"], swiftSettings: optimise),
        .target(name: "TestSupport", dependencies: ["TerminalKit", "TrainingEngine", "AGGAN", "Imaging", "Basics"]),
        .executableTarget(
            name: "aggan",
            dependencies: [
                "Basics", "Tensor", "NeuralNet", "AGGAN", "Imaging", "TrainingEngine", "Lab",
                "TerminalKit", "Dashboard", "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimise),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "Tensor", "Basics"]),
        .testTarget(name: "AGGANTests", dependencies: ["AGGAN", "NeuralNet", "Tensor", "Basics"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Basics"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EngineTests", dependencies: ["TrainingEngine", "TestSupport", "AGGAN", "Imaging", "Tensor", "Basics"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "TestSupport", "TrainingEngine", "AGGAN", "Imaging", "Tensor", "Basics"]),
        .testTarget(name: "TerminalKitTests", dependencies: ["TerminalKit", "TestSupport"]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "TerminalKit", "TrainingEngine", "AGGAN", "Imaging", "Tensor",
                                                     "TestSupport"]),
    ]
)
