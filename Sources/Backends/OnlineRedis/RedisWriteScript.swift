/// The Lua script every write runs: newest-wins rows and compare-and-set aggregation states,
/// atomically (Redis runs a script with nothing else in between).
///
/// `KEYS`: the row keys (n), then the state keys (m).
/// `ARGV`: n, m, b, then the b batch ends (rows of batch k are those after end k−1 up to end
/// k), then per row its value and its `PXAT` time in milliseconds (`0`: no expiry), then per
/// state a flag, the held state the writer saw and the new one. The flag's first letter says
/// what must be held for the write to go ahead — `n` nothing, `v` the given state, `x`
/// anything (a rebuild) — and its second what to do: `s` set, `d` delete.
///
/// A row replaces the stored one when its first 16 bytes (event time, then created time, in
/// byte-comparable form) are at least the stored ones: newer wins, and on equal times the
/// new write wins, so a rerun is idempotent. The bytes are compared one by one as numbers:
/// Lua's string `<` follows the server's locale, which is not byte order everywhere.
///
/// Returns `{0, written of batch 1, …, written of batch b}`, or `{-1, j}` when state j was not
/// as the writer saw it (another writer changed it): then nothing was written.
enum RedisWriteScript {
    static let source = """
        local n, m, b = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local rows = 3 + b
        local states = rows + 2 * n
        for j = 1, m do
          local check = string.sub(ARGV[states + 3 * j - 2], 1, 1)
          if check ~= 'x' then
            local held = redis.call('GET', KEYS[n + j])
            if check == 'n' then
              if held then return {-1, j} end
            elseif held ~= ARGV[states + 3 * j - 1] then
              return {-1, j}
            end
          end
        end
        local out = {0}
        local batch, written = 1, 0
        for i = 1, n do
          while batch <= b and i > tonumber(ARGV[3 + batch]) do
            out[#out + 1] = written
            written = 0
            batch = batch + 1
          end
          local value = ARGV[rows + 2 * i - 1]
          local old = redis.call('GETRANGE', KEYS[i], 0, 15)
          local newer = true
          if #old == 16 then
            for k = 1, 16 do
              local x, y = string.byte(old, k), string.byte(value, k)
              if x ~= y then
                newer = x < y
                break
              end
            end
          end
          if newer then
            local at = ARGV[rows + 2 * i]
            if at == '0' then
              redis.call('SET', KEYS[i], value)
            else
              redis.call('SET', KEYS[i], value, 'PXAT', at)
            end
            written = written + 1
          end
        end
        while batch <= b do
          out[#out + 1] = written
          written = 0
          batch = batch + 1
        end
        for j = 1, m do
          if string.sub(ARGV[states + 3 * j - 2], 2, 2) == 'd' then
            redis.call('DEL', KEYS[n + j])
          else
            redis.call('SET', KEYS[n + j], ARGV[states + 3 * j])
          end
        end
        return out
        """
}
