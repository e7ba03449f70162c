// The TerminalUI module: a Canvas of styled cells, widgets that draw into it as pure
// functions of plain values, themes, colour depths and the key table. The ncurses backend
// that blits a Canvas sits beside them and is the only file that imports CNCurses.
