/* Compiled by build.rs with the C compiler run directly, as `make` runs `$CC`. */
int cached_direct(void) { return 7; }
