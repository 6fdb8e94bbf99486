fn main() -> std::process::ExitCode {
    meeloop::cli::main()
}
