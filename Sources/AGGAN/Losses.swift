/// One term of the losses logged per iteration. Its raw value is the term's name in
/// `metrics.jsonl`, the loss log, the dashboard and experiment tables: the one list of
/// loss names (add a term here and every consumer follows).
public enum LossTerm: String, CaseIterable, Codable, CodingKey, Sendable {
    case advST = "adv_st", advTS = "adv_ts", cycS = "cyc_s", cycT = "cyc_t", gTotal = "g_total"
    case dS = "d_s", dT = "d_t"

    /// The terms of the generators' and attention networks' objective L_G.
    public static let generator: [LossTerm] = [.gTotal, .cycS, .cycT, .advST, .advTS]
    /// The discriminators' terms.
    public static let discriminator: [LossTerm] = [.dS, .dT]
}

/// The loss terms of one iteration. Encoded as an object keyed by the terms' names; a
/// missing or null term decodes as NaN.
public struct Losses: Codable, Sendable, Equatable {
    public var advST: Float = 0, advTS: Float = 0, cycS: Float = 0, cycT: Float = 0
    public var gTotal: Float = 0, dS: Float = 0, dT: Float = 0

    public init() {}

    public subscript(term: LossTerm) -> Float {
        get {
            switch term {
            case .advST: return advST
            case .advTS: return advTS
            case .cycS: return cycS
            case .cycT: return cycT
            case .gTotal: return gTotal
            case .dS: return dS
            case .dT: return dT
            }
        }
        set {
            switch term {
            case .advST: advST = newValue
            case .advTS: advTS = newValue
            case .cycS: cycS = newValue
            case .cycT: cycT = newValue
            case .gTotal: gTotal = newValue
            case .dS: dS = newValue
            case .dT: dT = newValue
            }
        }
    }

    /// (term, value) in `LossTerm.allCases` order.
    public var terms: [(LossTerm, Float)] { LossTerm.allCases.map { ($0, self[$0]) } }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: LossTerm.self)
        for t in LossTerm.allCases { self[t] = try c.decodeIfPresent(Float.self, forKey: t) ?? .nan }
    }

    /// JSON has no NaN or infinity: such a term is written as null.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: LossTerm.self)
        for (t, v) in terms {
            if v.isFinite { try c.encode(v, forKey: t) } else { try c.encodeNil(forKey: t) }
        }
    }
}
