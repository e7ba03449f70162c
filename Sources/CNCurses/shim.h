#ifndef AGGAN_CNCURSES_SHIM_H
#define AGGAN_CNCURSES_SHIM_H
// SwiftPM drops -D flags from pkg-config: define the wide-character switches here.
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <ncurses.h>
#endif
