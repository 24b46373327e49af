// TesseraDefinitions
