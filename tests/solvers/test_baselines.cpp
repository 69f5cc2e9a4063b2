// tests to be written
