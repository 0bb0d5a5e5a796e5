/* fuzz_driver.c - placeholder until the driver lands. */
