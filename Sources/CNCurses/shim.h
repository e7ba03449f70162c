#ifndef AGGAN_CNCURSES_SHIM_H
#define AGGAN_CNCURSES_SHIM_H
// SwiftPM drops -D flags from pkg-config: define the wide-character switches here.
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
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

// The terminal restored when the process dies of a crash signal (a Swift trap or
// fatalError is SIGILL or SIGTRAP; SIGSEGV, SIGBUS, SIGFPE, SIGABRT): the handler puts
// back the terminal modes saved before ncurses changed them and writes the sequences that
// leave the alternate screen, show the cursor and reset colours, using only
// async-signal-safe calls (tcsetattr, write, sigaction, raise). Then the signal goes on to
// the handler that was there before (Swift's backtracer) or its default action, so the
// process still dies of it, now on a usable terminal.
#define AGGAN_CRASH_SIGNALS 6
struct aggan_crash_state {
    struct sigaction previous[AGGAN_CRASH_SIGNALS];
    struct termios termios;
    int termios_saved;
    int installed;
    int drawing_fd;
    // Written before the reset: deletes of the kitty images the dashboard may show.
    char extra[1024];
    int extra_len;
};

// The handler's state, in a function (Swift does not import a header's static variables).
static inline struct aggan_crash_state *aggan_crash(void) {
    static struct aggan_crash_state state;
    return &state;
}

static inline int aggan_crash_signal(int i) {
    static const int signals[AGGAN_CRASH_SIGNALS] = {SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
    return signals[i];
}

static void aggan_crash_handler(int sig) {
    static const char reset[] = "\033[0m\033[?25h\033[?1l\033>\033[?1049l\r\n";
    struct aggan_crash_state *c = aggan_crash();
    // The dashboard's thread may still be drawing: its stream goes to /dev/null from now on.
    if (c->drawing_fd > STDERR_FILENO) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, c->drawing_fd);
    }
    if (c->termios_saved) tcsetattr(STDIN_FILENO, TCSANOW, &c->termios);
    ssize_t written = 0;
    if (c->extra_len > 0) written = write(STDOUT_FILENO, c->extra, (size_t)c->extra_len);
    written = write(STDOUT_FILENO, reset, sizeof reset - 1);
    (void)written;
    for (int i = 0; i < AGGAN_CRASH_SIGNALS; i++) {
        if (aggan_crash_signal(i) == sig) sigaction(sig, &c->previous[i], NULL);
    }
    raise(sig);  // the previous handler (Swift's backtracer) has its say
    // Then the default action, also for a signal that was sent rather than raised by a
    // fault (returning would go on running with a silenced dashboard).
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(sig, &fallback, NULL);
    raise(sig);
}

// Call before ncurses changes the terminal modes; `drawing_fd` is the descriptor ncurses
// draws through (silenced by a crash when it is not standard output or error).
static inline void aggan_install_crash_restore(int drawing_fd) {
    struct aggan_crash_state *c = aggan_crash();
    if (c->installed) return;
    c->drawing_fd = drawing_fd;
    c->termios_saved = tcgetattr(STDIN_FILENO, &c->termios) == 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = aggan_crash_handler;
    action.sa_flags = SA_NODEFER;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < AGGAN_CRASH_SIGNALS; i++) sigaction(aggan_crash_signal(i), &action, &c->previous[i]);
    c->installed = 1;
}

// Puts the previous handlers back (the terminal is restored the ordinary way).
static inline void aggan_remove_crash_restore(void) {
    struct aggan_crash_state *c = aggan_crash();
    if (!c->installed) return;
    for (int i = 0; i < AGGAN_CRASH_SIGNALS; i++) sigaction(aggan_crash_signal(i), &c->previous[i], NULL);
    c->installed = 0;
}

// Bytes the crash handler writes before its reset (cut to the buffer; 0 bytes: none).
static inline void aggan_set_crash_extra(const char *bytes, int len) {
    struct aggan_crash_state *c = aggan_crash();
    if (len < 0) len = 0;
    if (len > (int)sizeof c->extra) len = 0;  // never half a sequence
    c->extra_len = 0;
    if (len > 0) memcpy(c->extra, bytes, (size_t)len);
    c->extra_len = len;
}

// The size of a cell in pixels, from the terminal's window size (0 when it does not say).
static inline void aggan_cell_pixels(int fd, int *width, int *height) {
    struct winsize ws;
    *width = 0;
    *height = 0;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) return;
    *width = ws.ws_xpixel / ws.ws_col;
    *height = ws.ws_ypixel / ws.ws_row;
}

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
