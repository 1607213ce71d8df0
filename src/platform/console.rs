//! Colour on the terminal: ANSI escapes work as written on Unix terminals; a Windows console
//! shows them only once virtual-terminal processing is on (Windows 10 and later; Windows
//! Terminal has it on already). Asked through `anstyle-query`, which clap already brings.

/// Whether ANSI colour escapes written to stdout will show as colour, turning the console's
/// support on where it has to be.
pub fn ansi_colors_ready() -> bool {
    #[cfg(windows)]
    return anstyle_query::windows::enable_ansi_colors().unwrap_or(false);
    #[cfg(not(windows))]
    true
}
