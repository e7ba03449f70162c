// swift-tools-version: 6.0
import PackageDescription

// Module layout: see ARCHITECTURE in the README. Data flows one way:
// pixels -> tensors -> networks -> trainer -> engine -> snapshots -> screen.
// Release builds: whole-module optimisation at -O (bounds and overflow checks kept) for
// every target; only Tensor, whose kernel loops run every iteration, drops the checks.
let optimise: [SwiftSetting] = [.unsafeFlags(["-wmo"], .when(configuration: .release))]
let uncheckedKernels: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "aggan",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aggan", targets: ["aggan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng"),
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses", pkgConfig: "ncursesw"),
        // Links libgomp, the OpenMP runtime oneDNN uses (see Sources/CKernels/parallel.c).
        .target(name: "CKernels", linkerSettings: [.linkedLibrary("gomp")]),
        .target(name: "Tensor", dependencies: ["CDNNL", "CKernels"], swiftSettings: uncheckedKernels),
        .target(name: "NeuralNet", dependencies: ["Tensor"], swiftSettings: optimise),
        .target(name: "AGGAN", dependencies: ["NeuralNet", "Tensor"], swiftSettings: optimise),
        .target(name: "Imaging", dependencies: ["CPNG", "Tensor"], swiftSettings: optimise),
        .target(name: "TrainingEngine", dependencies: ["AGGAN", "Imaging"], swiftSettings: optimise),
        .target(name: "TerminalUI", dependencies: ["TrainingEngine", "CNCurses"], swiftSettings: optimise),
        .executableTarget(
            name: "aggan",
            dependencies: [
                "Tensor", "NeuralNet", "AGGAN", "Imaging", "TrainingEngine", "TerminalUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimise),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "Tensor"]),
        .testTarget(name: "AGGANTests", dependencies: ["AGGAN", "NeuralNet", "Tensor"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Tensor"]),
        .testTarget(name: "TrainingEngineTests", dependencies: ["TrainingEngine", "AGGAN", "Imaging"]),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI", "TrainingEngine"]),
    ]
)
