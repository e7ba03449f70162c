#ifndef AGGAN_CNCURSES_SHIM_H
#define AGGAN_CNCURSES_SHIM_H
// SwiftPM drops -D flags from pkg-config: define the wide-character switches here.
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <ncurses.h>

// What Swift cannot import: macros with arguments or casts, and the globals that Swift 6
// rejects as shared mutable state. One static inline wrapper each.

static inline WINDOW *aggan_stdscr(void) { return stdscr; }
static inline int aggan_lines(void) { return LINES; }
static inline int aggan_cols(void) { return COLS; }
static inline int aggan_colors(void) { return COLORS; }
static inline int aggan_color_pairs(void) { return COLOR_PAIRS; }
static inline int aggan_maxy(WINDOW *w) { return getmaxy(w); }
static inline int aggan_maxx(WINDOW *w) { return getmaxx(w); }
static inline FILE *aggan_stdout(void) { return stdout; }
static inline FILE *aggan_stdin(void) { return stdin; }
static inline int aggan_ok(void) { return OK; }
static inline int aggan_err(void) { return ERR; }

// The character set of the current locale (`UTF-8` when braille can show).
static inline const char *aggan_codeset(void) { return nl_langinfo(CODESET); }

// Attributes.
static inline attr_t aggan_a_normal(void) { return A_NORMAL; }
static inline attr_t aggan_a_bold(void) { return A_BOLD; }
static inline attr_t aggan_a_dim(void) { return A_DIM; }
static inline attr_t aggan_a_reverse(void) { return A_REVERSE; }
static inline attr_t aggan_a_underline(void) { return A_UNDERLINE; }

// Key codes that get_wch reports with KEY_CODE_YES.
static inline int aggan_key_code_yes(void) { return KEY_CODE_YES; }
static inline int aggan_key_left(void) { return KEY_LEFT; }
static inline int aggan_key_right(void) { return KEY_RIGHT; }
static inline int aggan_key_up(void) { return KEY_UP; }
static inline int aggan_key_down(void) { return KEY_DOWN; }
static inline int aggan_key_home(void) { return KEY_HOME; }
static inline int aggan_key_end(void) { return KEY_END; }
static inline int aggan_key_ppage(void) { return KEY_PPAGE; }
static inline int aggan_key_npage(void) { return KEY_NPAGE; }
static inline int aggan_key_enter(void) { return KEY_ENTER; }
static inline int aggan_key_backspace(void) { return KEY_BACKSPACE; }
static inline int aggan_key_resize(void) { return KEY_RESIZE; }

// One styled cell: a wide character with attributes and an extended colour pair.
static inline int aggan_put_cell(WINDOW *w, int y, int x, const wchar_t *wch, attr_t attrs, int pair) {
    cchar_t c;
    if (setcchar(&c, wch, attrs, 0, &pair) != OK) return ERR;
    return mvwadd_wch(w, y, x, &c);
}

// The character drawn at (y, x) of the window (its first code point; 0 when none): lets
// tests read back what a frame put where.
static inline unsigned int aggan_char_at(WINDOW *w, int y, int x) {
    cchar_t c;
    if (wmove(w, y, x) == ERR) return 1;
    if (win_wch(w, &c) == ERR) return 2;
    return (unsigned int)c.chars[0];
}

#endif
