// TesseraCLI
