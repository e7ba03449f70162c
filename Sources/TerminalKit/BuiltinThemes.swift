// The themes/ files, built in so that aggan finds its themes wherever it runs.
// Keep in step with themes/*.theme: ThemeTests checks that the texts are identical.

enum BuiltinThemes {
    static let sources: [String: String] = [
        "default": #"""
# aggan theme: default (dark)
# The btop theme grammar: one theme[key]="value" a line, '#' starts a comment.
# A value is "#RRGGBB", a grey level "#GG", decimal "R G B", or "" for the
# terminal's own colour. Unknown keys are ignored; a missing key takes the
# value of this default theme.

# Background of the whole screen; "" keeps the terminal's background.
theme[main_bg]="#111318"
# Main text.
theme[main_fg]="#c8ccd4"
# Box titles.
theme[title]="#eeeeee"
# Highlighted text: keys in hints, current values.
theme[hi_fg]="#f0b75e"
# Selected item.
theme[selected_bg]="#2a3342"
theme[selected_fg]="#ffffff"
# Text that is there but not active (dim hints, faint labels).
theme[inactive_fg]="#5c6370"
# Axis labels and legends of graphs.
theme[graph_text]="#8a93a3"
# Dividers inside boxes.
theme[div_line]="#3b4252"

# Box outlines: losses, attention, preview.
theme[loss_box]="#5b8fd9"
theme[attention_box]="#c678dd"
theme[preview_box]="#56b6c2"

# One colour per loss series, in order.
theme[graph_1]="#61afef"
theme[graph_2]="#e06c75"
theme[graph_3]="#98c379"
theme[graph_4]="#e5c07b"
theme[graph_5]="#c678dd"
theme[graph_6]="#56b6c2"
theme[graph_7]="#d19a66"
theme[graph_8]="#abb2bf"

# Vertical markers on the loss chart.
theme[marker_stage]="#e5c07b"
theme[marker_checkpoint]="#5c6370"

# Attention heat map gradient, from 0 through 0.5 to 1 (plasma).
theme[heat_start]="#0d0887"
theme[heat_mid]="#cc4778"
theme[heat_end]="#f0f921"

# Run state in the status line, and warnings.
theme[status_running]="#98c379"
theme[status_paused]="#e5c07b"
theme[warning_fg]="#e06c75"
"""#,
        "light": #"""
# aggan theme: light
# For terminals with a light background. Same keys as default.theme.

theme[main_bg]="#fafafa"
theme[main_fg]="#383a42"
theme[title]="#202227"
theme[hi_fg]="#b35900"
theme[selected_bg]="#d7dae0"
theme[selected_fg]="#000000"
theme[inactive_fg]="#a0a1a7"
theme[graph_text]="#696c77"
theme[div_line]="#c8cad0"

theme[loss_box]="#4078f2"
theme[attention_box]="#a626a4"
theme[preview_box]="#0184bc"

theme[graph_1]="#4078f2"
theme[graph_2]="#e45649"
theme[graph_3]="#50a14f"
theme[graph_4]="#c18401"
theme[graph_5]="#a626a4"
theme[graph_6]="#0184bc"
theme[graph_7]="#986801"
theme[graph_8]="#696c77"

theme[marker_stage]="#c18401"
theme[marker_checkpoint]="#a0a1a7"

# Attention gradient: pale to dark orange.
theme[heat_start]="#fff5eb"
theme[heat_mid]="#fd8d3c"
theme[heat_end]="#7f2704"

theme[status_running]="#50a14f"
theme[status_paused]="#c18401"
theme[warning_fg]="#e45649"
"""#,
        "mono": #"""
# aggan theme: mono
# Monochrome: the terminal's own colours for text, grey levels ("#GG") for
# graphs and the heat map. Series are told apart by the legend.

theme[main_bg]=""
theme[main_fg]=""
theme[title]=""
theme[hi_fg]=""
theme[selected_bg]="#40"
theme[selected_fg]=""
theme[inactive_fg]="#80"
theme[graph_text]=""
theme[div_line]="#60"

theme[loss_box]=""
theme[attention_box]=""
theme[preview_box]=""

theme[graph_1]="#ff"
theme[graph_2]="#d8"
theme[graph_3]="#b0"
theme[graph_4]="#90"
theme[graph_5]="#f0"
theme[graph_6]="#c8"
theme[graph_7]="#a0"
theme[graph_8]="#80"

theme[marker_stage]="#ff"
theme[marker_checkpoint]="#80"

theme[heat_start]="#10"
theme[heat_mid]="#80"
theme[heat_end]="#ff"

theme[status_running]=""
theme[status_paused]=""
theme[warning_fg]=""
"""#,
    ]
}
