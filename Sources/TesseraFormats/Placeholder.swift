// TesseraFormats
