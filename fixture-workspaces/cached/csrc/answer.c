int cdep_answer(void) { return 6 * 7; }
