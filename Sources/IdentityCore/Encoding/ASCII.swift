extension UInt8 {
    /// Whether the byte is an ASCII letter or digit.
    public var isASCIIAlphanumeric: Bool { (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) }
}
