import TesseraCLI

@main
struct Tessera {
    static func main() async {
        await TesseraMain.run()
    }
}
