// TesseraRegistry
