import Foundation
import XCTest
import Imaging

/// Metrics against values worked out by hand, and PSNR/SSIM against scikit-image.
final class MetricsTests: XCTestCase {
    func testPSNRByHand() throws {
        let a = try Image(width: 2, height: 2, channels: 1, pixels: [0, 0, 0, 0])
        let b = try Image(width: 2, height: 2, channels: 1, pixels: [0.1, 0, 0, 0])
        // MSE = 0.01 / 4 = 0.0025; PSNR = 10 log10(1 / 0.0025) = 10 log10(400) = 26.0206 dB.
        XCTAssertEqual(try psnr(a, b), 26.020599913, accuracy: 1e-6)
        XCTAssertEqual(try psnr(a, a), .infinity)
        XCTAssertEqual(try meanAbsoluteError(a, b), 0.025, accuracy: 1e-9)
        let rgb = try Image(width: 2, height: 2, channels: 3)
        assertImagingError(.invalidArgument, containing: "images differ") { try psnr(a, rgb) }
    }

    func testMaskedMetricsByHand() throws {
        // 2 x 2, mask = top row. Differences: top (0.2, 0.4), bottom (0.1, 0.0).
        let input = try Image(width: 2, height: 2, channels: 1, pixels: [0.5, 0.5, 0.5, 0.5])
        let output = try Image(width: 2, height: 2, channels: 1, pixels: [0.7, 0.1, 0.6, 0.5])
        let mask = try PixelMask(width: 2, height: 2, bits: [true, true, false, false])
        XCTAssertEqual(try XCTUnwrap(maskedMeanAbsoluteError(output, input, mask: mask, region: .inside)), 0.3, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(maskedMeanAbsoluteError(output, input, mask: mask, region: .outside)), 0.05, accuracy: 1e-6)
        // Inside: MSE = (0.04 + 0.16) / 2 = 0.1 -> 10 dB. Outside: MSE = 0.01 / 2 -> 23.0103 dB.
        XCTAssertEqual(try XCTUnwrap(maskedPSNR(output, input, mask: mask, region: .inside)), 10, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(maskedPSNR(output, input, mask: mask, region: .outside)), 23.0103, accuracy: 1e-4)
        // Background drift in 8-bit levels: 0.05 x 255 = 12.75.
        XCTAssertEqual(try XCTUnwrap(backgroundDrift(output: output, input: input, mask: mask)), 12.75, accuracy: 1e-4)
        // A full mask leaves no background.
        let full = try PixelMask(width: 2, height: 2, bits: [true, true, true, true])
        XCTAssertNil(try backgroundDrift(output: output, input: input, mask: full))
        XCTAssertEqual(try maskedPSNR(input, input, mask: full, region: .inside), .infinity)
        // Colour: every channel of a masked pixel counts.
        let c0 = try Image(width: 1, height: 2, channels: 3, pixels: [0, 0, 0, 0, 0, 0])
        let c1 = try Image(width: 1, height: 2, channels: 3, pixels: [0.3, 1, 0.6, 1, 0.9, 1])
        let top = try PixelMask(width: 1, height: 2, bits: [true, false])
        XCTAssertEqual(try XCTUnwrap(maskedMeanAbsoluteError(c1, c0, mask: top, region: .inside)), 0.6, accuracy: 1e-6)
        assertImagingError(.invalidArgument, containing: "mask is 1 x 2, images are 2 x 2") {
            try maskedPSNR(output, input, mask: top, region: .inside)
        }
    }

    func testIoUAndDiceOfThresholdedAttention() throws {
        // Attention 1[a > 0.5]: pixels 0, 1, 2 (0.5 itself is not above). Mask: 1, 2, 3.
        let attention: [Float] = [0.9, 0.6, 0.51, 0.5, 0.1, 0]
        let predicted = try PixelMask(attention: attention, width: 3, height: 2, threshold: 0.5)
        XCTAssertEqual(predicted.bits, [true, true, true, false, false, false])
        let truth = try PixelMask(width: 3, height: 2, bits: [false, true, true, true, false, false])
        XCTAssertEqual(try intersectionOverUnion(predicted, truth), 0.5, accuracy: 1e-12)  // 2 / 4
        XCTAssertEqual(try dice(predicted, truth), 2.0 / 3.0, accuracy: 1e-12)            // 2*2 / (3+3)
        let empty = try PixelMask(width: 3, height: 2, bits: Array(repeating: false, count: 6))
        XCTAssertEqual(try intersectionOverUnion(empty, empty), 1)
        XCTAssertEqual(try dice(empty, truth), 0)
        // From images: a 0/255 mask file and an attention image with tau.
        let maskImage = try Image(width: 2, height: 1, channels: 1, pixels: [0, 1])
        XCTAssertEqual(PixelMask(maskImage).bits, [false, true])
        XCTAssertEqual(PixelMask(maskImage, threshold: 1).bits, [false, false])
        XCTAssertEqual(PixelMask(maskImage).inverted.bits, [true, false])
    }

    func testSSIMByHand() throws {
        let x = try makeImage(width: 12, height: 11, channels: 1) { _, y, x in Float((x * 7 + y * 3) % 10) / 10 }
        XCTAssertEqual(try ssim(x, x), 1, accuracy: 1e-12)
        // Constant images 0.5 and 0.25: no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1)
        // = (0.25 + 1e-4) / (0.3125 + 1e-4) = 0.800063979...
        let a = try Image(width: 11, height: 11, channels: 1, value: 0.5)
        let b = try Image(width: 11, height: 11, channels: 1, value: 0.25)
        XCTAssertEqual(try ssim(a, b), 0.2501 / 0.3126, accuracy: 1e-9)
        let small = try Image(width: 10, height: 20, channels: 1)
        assertImagingError(.invalidArgument, containing: "at least 11 x 11") { try ssim(small, small) }
    }

    /// The distortion used for the scikit-image reference: a (1, 2, 1)/4 horizontal blur
    /// with the edges clamped, integer rounding, plus the pattern ((31x + 17y + 7c) mod 23) - 11,
    /// clipped to 0...255. Works on 8-bit levels, so both sides see identical images.
    private func distort(_ image: Image) throws -> Image {
        try makeImage(width: image.width, height: image.height, channels: image.channels) { c, y, x in
            func level(_ x: Int) -> Int { Int((image[c, y, min(max(x, 0), image.width - 1)] * 255).rounded()) }
            let blur = (level(x - 1) + 2 * level(x) + level(x + 1) + 2) / 4
            return Float(min(max(blur + (31 * x + 17 * y + 7 * c) % 23 - 11, 0), 255)) / 255
        }
    }

    /// Reference values measured with scikit-image 0.26.0 (numpy 2.4.6, Python 3) on the
    /// embedded crops, loaded as uint8 / 255 in float64:
    ///
    ///     peak_signal_noise_ratio(x, y, data_range=1)
    ///     structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
    ///                           use_sample_covariance=False, data_range=1,
    ///                           channel_axis=2 for RGB, None for gray)
    ///
    /// nuclei: psnr 30.904741513240, ssim 0.643899085683
    /// skin:   psnr 31.625274829043, ssim 0.620408350572
    ///
    /// Crops: nuclei_fluo.png[200:264, 96:160] (gray, 64 x 64) and
    /// skin_he.png[100:148, 300:348] (RGB, 48 x 48) from two public images (BBBC038 via stardist, CC0; scikit-image
    /// `data.skin`, public domain), written with PIL and embedded below as base64.
    func testPSNRAndSSIMMatchScikitImage() throws {
        let nuclei = try Image(pngData: [UInt8](try XCTUnwrap(Data(base64Encoded: nucleiCrop))), name: "nuclei crop")
        let skin = try Image(pngData: [UInt8](try XCTUnwrap(Data(base64Encoded: skinCrop))), name: "skin crop")
        XCTAssertEqual([nuclei.width, nuclei.height, nuclei.channels], [64, 64, 1])
        XCTAssertEqual([skin.width, skin.height, skin.channels], [48, 48, 3])
        XCTAssertEqual(try psnr(nuclei, distort(nuclei)), 30.904741513240, accuracy: 1e-6)
        XCTAssertEqual(try ssim(nuclei, distort(nuclei)), 0.643899085683, accuracy: 1e-6)
        XCTAssertEqual(try psnr(skin, distort(skin)), 31.625274829043, accuracy: 1e-6)
        XCTAssertEqual(try ssim(skin, distort(skin)), 0.620408350572, accuracy: 1e-6)
    }
}

private let nucleiCrop = "iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAAAAACPAi4CAAAJ+0lEQVR42gXB2a4syVUA0D1FRE5V59y2uzFI5gUZCSRLiO/iuxG2fPsMlZkx7YG18H/6+X1/mnrWpywzbNf98ov1/fdxwjAi6Lp0SJZuAmObGfMX//LNay2nJJpoJMWT8FuKE+jZ+SeNo7wZ0bvUjUy37ElO8tWZlw1F+pM+MF3z5yrA/16QLlPavMjyZs6EhISD4sLF0lmmk4TTun5Wy8iT5/7ybeWrpONWoO0+/+Yd2shHQfVfsgPrhn9ELG9qXZqo64danLG/Tbt4sde+AdhqNdYV+b98fnZ4RioRsPH4jtJiS+fuCq/ZV0f1nL15SQgJBoxnA7rXDitaasH/9n+tA2oujy1n2HE+OpCa63D4dkH35OGAxRwt+hbLIE/rMOkMQybvPmDS2lMw2IK3geelyzod5/eCFYCoJXpoJzpeC0ooLB2McKCQA/+p3MFsT2ctU2zy+DHG6g1efIO/co+4i0f0knolB7sJZvrMkVbj15r4z6OQ9DVtVBISSKkGuYLAxCvmVpkl8taX0WEDDgSIUkwULpREl/CfI5Q7/ZDhnmKCwtZ1cbvwnvfa3HGCD2NfTBBN0zt0tLEVnhRjRcq27fzr/iFpe4SUXh/zged9C5EX1ZRyAM7nN+j2u9V4QL8X4d1s5bcm38F/Ja77OKQulciQ8hfzqJRrR4CgXmpJGD1tKgCoSB6We44xmXoqTpzgeNvrtuMKHOgW9BVEnxs1ff0Oc4RN2/p2F4UMzwDNMLJ72bbfwX3jv0hOSCkowfYpahJQom3Uv2/CtWcgU6gLD/ccNhJG5TuBDAUG5krFHsv+XkhJPh6m5RQKTLWNvk+b6A7sSXJLXV4Ra9zyIwuZlyEjZUCiMgrG0jbwH8B5bhfwzT5qmd5poPjcP7xF/LA/DAlc4EK+rOr7yN1romUD3tLcW851GvbPVS+BAUqMx1Ug5ogy5vw0+2x2hQ256ZddipqseBD/ZxL5PIjcpFbCSs1lfNEn2LCSOmoCRloFITz5MqSHeL/+6XuGLvPltJWCv6TI+xfYG5/sXCHkI5F5/q5gQTTg/QSqOihNr29gUrYXr4x288b/zeyuLyU8Qe51LBqf3o64I0+MrHl0sa6IC5fUMgi11W2nbr6epdxkoNbms7eB9gHN0ck/5OvrsUKbs0qNHARPsgbTH5G1HWe22ohgPFQ2ynQZ2/8eX9yH3dq+9IPSy71+fPb+SPWb1UO/ACgQ/oa6BWwVW2aXw35U4L9y3/odpzdzR4Vm9ValZpIxj5xYcSUlW2Lu15obUBdii8h+h6JTAsbMs8Xo2Hv/mi+U3u59qqdHMQ7Ls8uKbXBdrAmO0RGQ3Ns2CKbw0NObfYn5K1lQlX7lneqCdPlQyRtVDuG1LufYVPfI13y7VsKsNFYh6Mrnff/wRt09NP4+181eCVuI+o7Wvo2lryMut0n7oLG8VXoBIT6XC2Q88EV9/zm/S7wAW/xq/fJ863FJJH28YG9+cyeau9poCWltz0uUWLv/Qfkv6jzxH94lipvhVJtkAB4BEKnGmCkgpWAFIliARMmG9Og5SJ1upN+dQDiNLy5h6xFP5xbphhjm24CFWWIi/LHY6B2WpGImq2XfyF3e6m3zJ+GMfClhvPAST3E9lvRKOHN2LbMnInrZwLxZ68972a/FZ46n3fwfjdxeXdmDKltKRgSGiyPQ4+fhwIGaoOhMkZeoi91oht1hqXNeO3mG+xWTLz0Rw0Zf4wUEqYPa19rQoABmfL3LNFWYX/oAPOKI2enw56BRX3OjvUesvaQCy98nJ13P/UaYTr+zW2XScs0cMGJz+a5DQxEXdAqnpbL9nJXQQqI7Xw8qPV3544dmseVIYW/wCcfFN+cC7RFcWC88GV0EDv6XeV0e3Cb8jPUaiD2eauGll9wfFck5apGT01ozsVjf1LkHP+p2T7/5z6p58JlbvEEI1ufmPVUnWOKW7zJm9Hy+G7sqzI4mkB20ZI7JUXbhf6WvEfAVLkY2k1QaNRLn+wYYa3o9ae08mFKibLmg7ffCAiPdMQNb4d+uIJiLZuVZAjcbfGTdvrmAHrrAhSPb6nolElKgc5kw0twkVtrrw/ifK39ri9QtRFMfqPnk3IAbU11b4UiKfCXham0/KVIZWXNdph6NLuJn7/spkq7iyh5YQLP4TLACBbZTwotj7LMoEzw1oEKJyR02b8GTfxDeUercQBEnwkhtTnDkAUdlzJY8eDwmDH3vWB3G1jtn9pj1yYb8CA3xdVpuMhMlZc41F6wIIzMeszgDOg2QG8uSJ3Op+3gf3aDJqLzaUvNszUB1aXJvlhBoBk1f8EzDYVhKg1dRrHTud6rFldQx2TJl4x9DU4/Mq/SSpBghzKOuqBTen9PZ1k7jYdoRjpxfhy7fCVOEeJkglX9TAj3cUw/ooneyajOd/e378AgmzK918T7mhtJhFihRWjIEdrayDH5/WUZP8AlYNtBnE4gjiQ7WxyTBIC62ImR1S7RcJ7otI5Q6ero1c2Lv2wsRcepwrNcSVW3othiexwS9imtfTLEm07YcAAMBIZA1gIkPzKPcEQ6e8oDIYz4AJOstUQjNCk0QsclLmoVdlX2xuVlGvJ8weB2cJoFqyjCxRM+eFJCKMqgNZ78T5A7YyR51xcimQdutUVNRRt4o3ZUzaw5/gte1FL323vxUlHV1faTME1I6DKg70qAUTna08rVlZf5ljI04UQIO6UCz9IKeVtuLs2msJ43g2WUYsdRl/Y5Fk99PLFx6TXyI0Hg0AG7gMaGIOzpyO8KQ/5ESR7LYEccDFIO+V07aU1JrqeOWOEea2wfAdA4XRDqzPppxSDLTDRZHT4oQ5C/qTOIKsKlGHixig1cinQ8mWE7h8lq8GLeNaBjVhTG63LmtzUvkQomD+v5id+BILgidqA8MbVPk4O1FwDBLXPkDyd24r+5vkQMY5WZSNSo9Q/AKGWl0efCblyj3QpYCfHcURN19Lq6OR0/+qE1zTBlUN/UqAo6lisgI5YTBi+g2i/ky0ScnmxoUU0apW+YZAyhTJ1xSzZNXnmKkgSYtwdz4i/m3G+29hwsEEzmQexR/uK0aQzDYW1BbOsWAzlVoNzfmcDLSVZSTIg2wmfMy084EpXg7TuTg4oawDJjZCcU3QcMOWZPTCEPhFCfxwds4NJfhvAIyAiXxYCt9RgpwFUjGj5il4lxh3bsVj3msII19CL8BIgTor8IDywm7Y5BhMjjCbgZLymzUiuG9Nsf+ZsBCZB5LTE38tBBap3N9bwtw6HLPyBIzN0RadP1exszQDB/okcCvkYanGp3GxqXxnyC1R7dHewzpCctZcvLHB92pscAJczHOjoVMeuQTZV2/ySRK0mXMtrOwl7GLaN76erOygpRXikllbbgUabbdGSDMb4IDv55tJhmpDfAScv8/0smOwSJfKIUAAAAASUVORK5CYII="

private let skinCrop = "iVBORw0KGgoAAAANSUhEUgAAADAAAAAwCAIAAADYYG7QAAAKWElEQVR42nVZ23IkuXIDkKySZucc//+/OcL+BjvWo2mRCfiBVd2a2d16UHR0sUkwL0hkiv/53/8FCBBC5MOEOMgCC4BJAJWJv3seCe8HQO7nPdoLzGtlCAB72V8fLj/fDmlcaAivAQDUl8UBCOhvNzrvrwnupSBBKPV88dwFANJ/u09VARCZZPi6TQBIx95zXxe0EwDwL4CeFy0ie0HyPP2fzABA+YcXhEgGcYaN3MCHThCAAQS2bXQS4/wFSq6Nh19+2m+39xz/7rJ9gX/AM90DZID2yDERGQH0ic+vVyRqoABwvdDkC4L/PUsAjAGIGUEpAnrNvbhYRjrcP5slAHAUmAhhMcS3Sd2QR3eLpEhu0+B5Xp6WQL1QkvtvkoMCQkU7ahkz4Q1925K/OJqBwCAKLBIIYEywSJIaRYEkSJAJvkYjXxZP8hsmALIZ3LdDIx3EfsN9MQa3M78a+QmOooDFLrg4QA5AsXcwVPAlFPg0xlr9VzQA2IskGhGdJDGS9FuNbeQk3pm3twKD7H1z35ckiwaSLtQocMb7KdZljl/PTl5o8rIihCCEmJtsDARqBERe0f/aTbcPeeddCJToIJjuUVUo2U76TWf+7tkh9ls+J6lSCBIBdzwISrIwLzeKvDHRef6QQba5ikmIQpJY6eGGBFEpMvxrKt1O51co14exF3GntXZeU/FnAyTrdotyQwEYJEEAEU4ENAkMDkrjx48fKkiQ5OZvMbSfVP1mm43JSHaceG9/rZ/4cgPxmby/3ycBqcANkipW1Xj/9zembPcKaYhBGjF6ddtu9Du/EQWIJBQqkKmcj7ERSHqdEXzjHyFyE6MYOTLmIQDRbf4EbSTWz0muiF0Did0AauDNRTI0yYCdShK0XSYRAoICOlDij8fjN8K0nYQjESlJIjnAERJg5xng+9Vlc88d5SQHl50liaOyEniz0mAGdhnhz5ECkb0hg0IWoOMcv/kxEYA1QiCi71crVqDP9TUStl1JnnXsSE04mCYMGu5HQKVAGmZI6qpCV5JujiUMCshxHE+u+hr1n/DXcEl7hz2xnms20ezPb4IbiW2MoRqSvZYb7+9GJ5vgLbABAe4mEJgg0NlsCMzlrzTzBOe1dopJEkgWiwDW0NcUfibHmiuJDdtDEhlKWQ5r658gDTgAQzJTgQiEm+2CLND6ylt+xUdxFMigOjvAdnRbv1jueYfSmVyxPjpGBwmj4xMNbTVya7wiUzwAGNqVm55gN+Zxfn8G8i+m0pGAnQRObK/E1zVf5fnF4BLvgjDmZ8dL4JBGeIDe6RqyBJKKPXZJARh20Mkn0d391AXPOCX5P5+PAQ7wgCi6tK838rt22z9/zAVsQYQxDjxWfq6fVcdR7yQLY59u271g61BicF18nrde73beypu0EgZ02AbC7zuZSiQj4rbipLlzPhC2WifJH0FVYUtYsqp88BjnueYngKv8OUknYbLWugDtkArdsvPxuDxlhKyt6QBUvWTxHbm5o2B/A2dvhSRn1VUSgLF3KaF0uB7IVbtZQAqAgIaCbAl6RwBkQUEEQLRAMhvxvs1F1tun1zXrqayvTLh0YuLslSPmThF7x1Z0qT+RJPZlmRRQ2LQJaafEtoqvkgWsYlPo6KW1dyPAS6BuUkuyK+stY9zu2CTHJUuSXjT6eYMLELvABpNLCUkCGkDSEuJLVtgBV6vRGePt77uOW89uFri7N1S9avogS9wkT/fAxX47wpI0wXBsGiXKl2Y1gMoK2BkJQyblNOgyk6dwDbkz9BdkRkhuZNMOGArAsB2QFFHFdwBDAFtI0JeCuQSnrrJIggtwYSVD5KIC9YAEcHnqRUncMmhHsrd5SIKvJmlt8geTjO4Ohd12XH3Eft1P1wTaVXzXIGwVg6AnEEPB0UygUFC5s5XybaUgBmD3TqUdQ9uIASCqauvjITbQBNkz55mkgasAcchJorlAYCQiYAZwhHC8gxzwyNwGtwWrpOxF7mSBLRrEwRERLNYwtEAjCN6h7iQRObYGEEhyLfMWclcnSQB4O46IoS9ADoPdEH6dAbxa1TSwK7wBEIMI6OPbH7szuUt9cBfIzUhMDZK6u7Q1s8nEV493OXnOeW0vA1C8ARW15xA7L/dtEAaPS26IZEXczpvtRt+NQ4o8JIn92czuP3oEAhgjwAAJhgywnolCnucwYNgEaAWMBWRpl2ECBrnJmOBFhrsZFiyIsR7rYytaABKKEJoxiYhoAxpbzm12VvRbd5HcIiHbrkYYeJ98i4ntGOdpKykJQUMIgy2fMsa5G+5dwbt7rSQ9zu+2qUI0TGUb2mGsgFAj7j2LEck5u9EdN5K4QDGdPb65tE7wnHj4gMgtVxJenbiJsxPtdBGAVMdGxkKFIsPtpYi7S8vqEkTs4vcaTJ1nI5214iS7/yjws7ckda4hjje43nIczNWWGSoBmYYBCayI4EBR5Gev3XiLGShdTJo4ZpEleJNFDqqoOWcjHa+srQFK6qDOug8GQIsFAPGnLn1DbjredPNtnI2sTrt7oalQJJeEtAKA48RDz7mHMntmBeJZBWD6c07Pn38cx3GMs+y55lor0hijeusfRQSqNh3kmgD6HsrQaRjAxw6xgigB5zV0iMcnnTKRjE4ZFJxkVJUqFydvjgfIOhZkY7J4Ft44dgX5vz8/sbksAtBuLi9bUoCr8xIJFAlg8TnTyT0CAQCvVnZ6azhbWBaIdKOKIoCOk4Clg2/n6l62n8ckmcvfvv97g96Tg0rVAJzH44NbNZAKcx/d1Et9fxk4YelqCIPxmM0dycCcq1x7JmpnV8FCaVeQuzd9kYLo7uVlm8FBnKqT9XbUlwFjfLc79aumfuJRvV8Jmh7drdtHzyMVbAFPMnJfCrVejU5VVc3Vm5j5nIYm61XF/zJG/n0qnOd82QxQIMf39+MS0EHX2AMlx4gvaR5Ax3MKti0kRbJgSWMMjgLAdNqr7XlLOV1KGXyqyl8GIPv5+fEBxQTEcapF7pHE4wruDBEaV7fQdunqBRMSSdZatk/DYgZzOf2yzdtueCiC3jP1zUflGw1/geW163BQoz8/IgkCwDqCCFHpqCHQNuyfQLdtj6rzPCWtteac7z2W+6fn5+fM0DjrOM+jBj++VH5iUxeAHPwVzSWL/+Ptm5GmGhw/xvF4PLy6qorvwgKXOKc4xKFDVb1+1FFnFT09fwY4xvjj+/GYqOg95wk24nAtP+bjX2B3zzltSzqO4/04qqond+JKmunPOUnWeXx8fFQdIgWMd46jEqWqGmTKWaASr2Z7AR7je5zVESAcAHqiZ96HjOxpsJyVMFFyfnuzPcbYAZfk8Xh0d3Ek0agxRngxiC5LtSNIYxhiiSjV2p0bRoNJYjYIYHTNOddaQxpjCJxzzjk//efeFzUoVY0iSf3555/bF8dxnOdZVUm6e86r+14xwdjLnnP+6210Z/UnXGP6GlwwXbW2/BZGJA/IDJnVgQM3MJAQhjv9syfEYjEaVO2RWenboY14rbX/2bPZ5DgOCSsmQ0LCBlr1zW672/5/VK7S263zOwcAAAAASUVORK5CYII="
