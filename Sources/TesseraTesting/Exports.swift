// Tests start servers and make folders with the helpers the benchmarks use too.
@_exported import TesseraLocalServers
